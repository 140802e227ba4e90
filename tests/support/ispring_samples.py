"""The iSpring SOAP samples of the vendor pages (shared/vendor-docs), verbatim, malformed parts included."""

# ruff: noqa: UP012, W291
# (str literals encoded: two samples contain non-breaking spaces, which bytes literals cannot hold)

# from ispring-soap-GetUsers.txt
GET_USERS_REQUEST = """<?xml version="1.0" encoding="utf-8"?>
<SOAP-ENV:Envelope xmlns:SOAP-ENV="https://schemas.xmlsoap.org/soap/envelope/"
xmlns="https://ispringlearn.com/go/services/api/soap">
<SOAP-ENV:Body>
<GetUsersRequest>
<credentials>
<token>p-1sJDjmULL5DdpXPJTcbm4jVIaWVHvNmrjAxATRbNE</token>
</credentials>
</GetUsersRequest>
<groupId>string</groupId>
<departmentId>string</departmentId>
</SOAP-ENV:Body>
</SOAP-ENV:Envelope>""".encode()

# from ispring-soap-GetUsers.txt
GET_USERS_RESPONSE = """<?xml version="1.0" encoding="utf-8"?>
<SOAP-ENV:Envelope xmlns:SOAP-ENV="https://schemas.xmlsoap.org/soap/envelope/"
xmlns="https://ispringlearn.com/go/services/api/soap">
<SOAP-ENV:Body>
<GetUsersResult>
<userProfile>
<userId>43eb7146-6280-11e9-b274-a6210366ac32</userId>
<role>learner</role>
<departmentId>e95b4ad0-5f50-11e9-80c4-0a580af406eb</departmentId>
<status>1</status>
<fields>
<field>
<name>LOGIN</name>
<value>helen@ispring.com</value>
</field>
<field>
<name>EMAIL</name>
<value>helen@ispring.com</value>
</field>
<field>
<name>FIRST_NAME</name>
<value>Helen</value>
</field>
<field>
<name>LAST_NAME</name>
<value>Jones</value>
</field>
<field>
<name>JOB_TITLE</name>
<value>Accountant</value>
</field>
<field>
<name>COUNTRY</name>
<value>643</value>
</field>
</fields>
<groups>
<id>e0b394fc-44b9-11e9-92c8-0a580af401f6</id>
</groups>
<manageableDepartmentIds>
<id>3fa85f64-5717-4562-b3fc-2c963f66afa6</id>
</manageableDepartmentIds>
<userRoles>
<userRole>
<roleId>eaf01e14-2ae1-11e9-89a5-0242ac13000a</roleId>
<roleType>learner</roleType>
<manageableDepartmentIds>
<id>f9de0c52-6f59-11ea-b88f-cee299842653</id>
<id>f9d9f306-6f59-11ea-ad9a-cee299842653</id>
</manageableDepartmentIds>
</userRole>
</userRoles>
<addedDate>2019-04-30</addedDate>
<lastLoginDate>2019-04-30</lastLoginDate>
</userProfile>
<userProfile>
<userId>43eb7146-6280-11e9-b274-a6210366ac33</userId>
<role>department_administrator</role>
<departmentId>e95b4ad0-5f50-11e9-80c4-0a580af406eb</departmentId>
<status>1</status>
<fields>
<field>
<name>LOGIN</name>
<value>kevin@ispring.com</value>
</field>
<field>
<name>EMAIL</name>
<value>kevin@ispring.com</value>
</field>
<field>
<name>FIRST_NAME</name>
<value>Kevin</value>
</field>
<field>
<name>LAST_NAME</name>
<value>Klein</value>
</field>
<field>
<name>JOB_TITLE</name>
<value>Sales Manager</value>
</field>
<field>
<name>COUNTRY</name>
<value>643</value>
</field>
</fields>
<groups>
<id>e0b394fc-44b9-11e9-92c8-0a580af401f6</id>
</groups>
<manageableDepartmentIds>
<id>3fa85f64-5717-4562-b3fc-2c963f66afa6</id>
</manageableDepartmentIds>
<userRoles>
<userRole>
<roleId>eaf01e14-2ae1-11e9-89a5-0242ac13111b</roleId>
<roleType>department_administrator</roleType>
<manageableDepartmentIds>
<id>f9de0c52-6f59-11ea-b88f-cee299842653</id>
<id>f9d9f306-6f59-11ea-ad9a-cee299842653</id>
</manageableDepartmentIds>
</userRole>
</userRoles>
<addedDate>2019-04-29</addedDate>
<lastLoginDate>2019-04-30</lastLoginDate>
</userProfile>
</GetUsersResult>
</SOAP-ENV:Body>
</SOAP-ENV:Envelope>""".encode()

# from ispring-soap-ListLearnersResults.txt
LIST_LEARNERS_RESULTS_REQUEST = """<?xml version="1.0" encoding="utf-8"?>
<SOAP-ENV:Envelope xmlns:SOAP-ENV="https://schemas.xmlsoap.org/soap/envelope/"
                   xmlns="https://ispringlearn.com/go/services/api/soap">
  <SOAP-ENV:Body>
      <ListLearnersResultsRequest>
         <credentials>
            <token>p-1sJDjmULL5DdpXPJTcbm4jVIaWVHvNmrjAxATRbNE</token>
         </credentials>
         <userIds>
            <id>25e44840-87a0-11e9-897c-0a580af40783</id>
         </userIds>
         <courseIds>
            <id>596e5f20-8c46-11e9-a814-0a580af4024a</id>
         </courseIds>
         <accessDate>
            <startDate>2019-01-06T00:00:00+00:00</startDate>
            <endDate>2019-31-12T00:00:00+00:00</endDate>
         </accessDate>
         <dueDate>
            <startDate>2019-01-12T00:00:00+00:00</startDate>
            <endDate>2019-31-12T00:00:00+00:00</endDate>
         </dueDate>
         <completionDate>
            <startDate>2019-01-12T00:00:00+00:00</startDate>
            <endDate>2019-31-12T00:00:00+00:00</endDate>
         </completionDate>
         <completionStatuses>
            <value>complete</value>
         </completionStatuses>
         <departmentIds>
            <id>81826672-9e49-11e9-b4fc-0a580af40235</id>
         </departmentIds>
         <userStatuses>
            <value>1</value>
            <value>3</value>
         </userStatuses>
         <pageToken>MGJiYjhlZGMtMjcwMS0xMWVhLTljYzgtMGE1ODBhZjQwYzRm</pageToken>
         <pageSize>100</pageSize>
      </ListLearnersResultsRequest>
  </SOAP-ENV:Body>
</SOAP-ENV:Envelope>""".encode()

# from ispring-soap-ListLearnersResults.txt
LIST_LEARNERS_RESULTS_RESPONSE = """<?xml version="1.0" encoding="UTF-8"?>
<SOAP-ENV:Envelope xmlns:SOAP-ENV="https://schemas.xmlsoap.org/soap/envelope/"
                   xmlns="https://ispringlearn.com/go/services/api/soap">
  <SOAP-ENV:Body>
      <ListLearnersResultsResult>
         <learnersResults>
             <learnerResult>
               <userId>6b0dfde6-9e69-11e9-8e2c-0a580af404f9</userId>
               <courseId>e1175540-ae0f-11e9-b49e-0a580af405b3</courseId>
               <courseTitle>Course 1</courseTitle>
               <enrollmentId>1777fdf0-232d-11ea-a24a-0a580af40c27</enrollmentId>
               <accessDate>2019-12-25T01:00:00+00:00</accessDate>
               <dueDate>2019-12-27T21:00:00+00:00</dueDate>
               <expirationDate>2019-12-27T21:00:00+00:00</expirationDate>
               <completionStatus>not_started</completionStatus>
               <progress>0</progress>
               <isOverdue>true</isOverdue>
            </learnerResult>
            <learnerResult>
               <userId>1529eee6-adee-11e9-a5d9-0a580af40906</userId>
               <courseId>9789a1ec-adee-11e9-b1b5-0a580af40906</courseId>
               <courseTitle>Course 2</courseTitle>
               <enrollmentId>a2cadee0-adee-11e9-b31d-0a580af40909</enrollmentId>
               <accessDate>2019-07-24T00:00:00+00:00</accessDate>
               <timeSpent>127</timeSpent>
               <completionStatus>in_progress</completionStatus>
               <progress>80</progress>
               <awardedScore>13.64</awardedScore>
               <isOverdue>false</isOverdue>
               <viewsCount>2</viewsCount>
            </learnerResult>
            <learnerResult>
               <userId>0569aad2-adee-11e9-b6c5-0a580af40906</userId>
               <courseId>1b70b088-ae06-11e9-b7d8-0a580af405b3</courseId>
               <courseTitle>Course 3</courseTitle>
               <enrollmentId>3d4776b0-ae06-11e9-9707-0a580af4013b</enrollmentId>
               <accessDate>2019-07-24T00:00:00+00:00</accessDate>
               <completionDate>2019-07-24T11:30:07+00:00</completionDate>
               <timeSpent>41006</timeSpent>
               <completionStatus>complete</completionStatus>
               <progress>100</progress>
               <isOverdue>false</isOverdue>
               <viewsCount>3</viewsCount>
            </learnerResult>             
            <learnerResult>
               <userId>1529eee6-adee-11e9-a5d9-0a580af40906</userId>
               <courseId>1a6bc896-aec2-11e9-8955-0a580af406a3</courseId>
               <courseTitle>Course 4</courseTitle>
               <enrollmentId>296bdbd8-aec2-11e9-aee5-0a580af402ea</enrollmentId>
               <accessDate>2019-07-25T00:00:00+00:00</accessDate>
               <completionDate>2019-07-25T09:55:37+00:00</completionDate>
               <timeSpent>37</timeSpent>
               <completionStatus>complete</completionStatus>
               <progress>100</progress>
               <isOverdue>false</isOverdue>
               <viewsCount>2</viewsCount>
            </learnerResult>
            </learnersResults>
         <nextPageToken>MGJiYjhlZGMtMjcwMS0xMWVhLTljYzgtMGE1ODBhZjQwYzRm</nextPageToken>
      </ListLearnersResultsResult>
   </SOAP-ENV:Body>
</SOAP-ENV:Envelope>""".encode()

# from ispring-soap-enrollLearnersInCourses.txt
ENROLL_REQUEST = """<?xml version="1.0" encoding="utf-8"?>
<SOAP-ENV:Envelope xmlns:SOAP-ENV="https://schemas.xmlsoap.org/soap/envelope/"
                   xmlns="https://ispringlearn.com/go/services/api/soap">
  <SOAP-ENV:Body>
      <EnrollLearnersInCoursesRequest>
        <credentials>
            <token>p-1sJDjmULL5DdpXPJTcbm4jVIaWVHvNmrjAxATRbNE</token>
         </credentials>
         <courseIds>
            <id>146ac240-d54f-11e9-9b88-0a580af40973</id>
         </courseIds>
         <learnerIds>
            <id>8363b098-e031-11e9-89cf-0a580af40b0f</id>
         </learnerIds>
         <accessDate>2019-09-24 10:30:00</accessDate>
         <dueDateType>unlimited</dueDateType>
         <dueDate>2019-09-25</dueDate>
         <duePeriod>10</soap:duePeriod>
      </EnrollLearnersInCoursesRequest>
 </SOAP-ENV:Body>
</SOAP-ENV:Envelope>""".encode()

# from ispring-soap-enrollLearnersInCourses.txt
ENROLL_RESPONSE = """<?xml version="1.0" encoding="UTF-8"?>
<SOAP-ENV:Envelope xmlns:SOAP-ENV="https://schemas.xmlsoap.org/soap/envelope/"
                   xmlns="https://ispringlearn.com/go/services/api/soap">
  <SOAP-ENV:Body>
    <ns1:SuccessResult>
      <ns1:success>true</ns1:success>
    </ns1:SuccessResult>
  </SOAP-ENV:Body>
</SOAP-ENV:Envelope>""".encode()
